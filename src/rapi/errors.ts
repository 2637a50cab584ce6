// Every RAPI error in one place: the HTTP error a handler raises, its body
// ({code, message, explain}, upstream's http.server._SetError), and how errors from the
// master daemon become HTTP statuses (upstream's baserlib/rlib2 and server/rapi.py).
import {
  GanetiError, GenericError, JobQueueDrainError, JobQueueFull, NoMasterError, OpCodeUnknown, OpPrereqError, PermissionError,
  ProtocolError, QueryFilterParseError, TimeoutError, ECODE,
} from '../core/errors.ts';

/** Python's BaseHTTPRequestHandler.responses: the reason phrase and the long explanation. */
export const HTTP_RESPONSES: Readonly<Record<number, readonly [string, string]>> = {
  200: ['OK', 'Request fulfilled, document follows'],
  400: ['Bad Request', 'Bad request syntax or unsupported method'],
  401: ['Unauthorized', 'No permission -- see authorization schemes'],
  403: ['Forbidden', 'Request forbidden -- authorization will not help'],
  404: ['Not Found', 'Nothing matches the given URI'],
  405: ['Method Not Allowed', 'Specified method is invalid for this resource'],
  408: ['Request Timeout', 'Request timed out; try again later'],
  411: ['Length Required', 'Client must specify Content-Length'],
  413: ['Request Entity Too Large', 'Entity is too large'],
  414: ['Request-URI Too Long', 'URI is too long'],
  415: ['Unsupported Media Type', 'Entity body in unsupported format'],
  431: ['Request Header Fields Too Large', 'The server is unwilling to process the request because its header fields are too large'],
  500: ['Internal Server Error', 'Server got itself in trouble'],
  501: ['Not Implemented', 'Server does not support this operation'],
  502: ['Bad Gateway', 'Invalid responses from another server/proxy'],
  503: ['Service Unavailable', 'The server cannot process the request due to a high load'],
  504: ['Gateway Timeout', 'The gateway server did not receive a timely response'],
  505: ['HTTP Version Not Supported', 'Cannot fulfill request'],
};

export const AUTH_REALM = 'Ganeti Remote API';

/** An HTTP error answer; without a message the body says the status's reason phrase. */
export class HttpError extends Error {
  readonly code: number;
  readonly headers: Record<string, string>;
  readonly explicitMessage: boolean;

  constructor(code: number, message?: string, headers: Record<string, string> = {}) {
    super(message ?? HTTP_RESPONSES[code]?.[0] ?? 'Unknown');
    this.code = code;
    this.headers = headers;
    this.explicitMessage = message !== undefined;
  }
}

export const badRequest = (message?: string) => new HttpError(400, message);
export const notFound = () => new HttpError(404);
export const forbidden = (message?: string) => new HttpError(403, message);
export const unauthorized = () => new HttpError(401, undefined, { 'WWW-Authenticate': `Basic realm="${AUTH_REALM}"` });

/** html.escape(s, quote=True), as upstream applies to every error message. */
function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
}

/** The JSON body of an error answer. */
export function errorBody(err: HttpError): { code: number; message: string; explain: string } {
  const [, explain] = HTTP_RESPONSES[err.code] ?? ['Unknown', 'Unknown'];
  return { code: err.code, message: htmlEscape(err.message), explain };
}

/** Which LUXI call failed, since upstream words a few of them differently. */
export type LuxiCallKind = 'connect' | 'submit' | 'other';

/**
 * An error from talking to the master daemon as the HTTP error upstream answers with:
 * no master 502, timeouts 504, protocol errors 502, a full or drained queue 503, an unknown
 * object 404, bad input 400; anything else 500 with the error's text.
 */
export function fromMasterError(err: unknown, kind: LuxiCallKind = 'other'): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof NoMasterError) {
    return new HttpError(502, kind === 'submit' ? `Master seems to be unreachable: ${err.message}` : `Can't connect to master daemon: ${err.message}`);
  }
  if (err instanceof PermissionError) return new HttpError(500, 'Internal error: no permission to connect to the master daemon');
  if (err instanceof TimeoutError) {
    return kind === 'submit' ? new HttpError(504, `Timeout while talking to the master daemon: ${err.message}`) : new HttpError(504);
  }
  if (err instanceof ProtocolError) {
    // The master is this same program: a method it does not know is a feature it lacks.
    const m = /^Unknown luxi request '(\w+)'/.exec(err.message);
    if (m) return new HttpError(501, `The master daemon does not implement ${m[1]} yet`);
    return new HttpError(502, err.message);
  }
  if (err instanceof JobQueueFull) return new HttpError(503, 'Job queue is full, needs archiving');
  if (err instanceof JobQueueDrainError || (err instanceof GenericError && err.message === 'Queue drained')) {
    return new HttpError(503, 'Job queue is drained, cannot submit');
  }
  if (err instanceof OpPrereqError) {
    if (err.args[1] === ECODE.NOENT) return notFound();
    if (err.args[1] === ECODE.INVAL) return badRequest(err.message);
  }
  if (err instanceof QueryFilterParseError) return badRequest(err.message);
  if (err instanceof OpCodeUnknown) return new HttpError(501, err.message);
  if (err instanceof GanetiError) return new HttpError(500, err.message);
  return new HttpError(500, err instanceof Error ? err.message : String(err));
}
