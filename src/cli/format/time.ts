// Local-time renderings the CLI shares with Python's time module: ctime() for job
// log lines and "%F %T" (optionally with microseconds) for timestamps.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Python's time.localtime() truncates fractional seconds towards the past. */
function localDate(sec: number): Date {
  return new Date(Math.floor(sec) * 1000);
}

function clock(d: Date): string {
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** time.ctime(): "Thu Jan  1 00:00:00 1970" in local time. */
export function ctime(sec: number): string {
  const d = localDate(sec);
  const day = String(d.getDate()).padStart(2, ' ');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day} ${clock(d)} ${d.getFullYear()}`;
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * "YYYY-MM-DD HH:MM:SS" local time for seconds since the epoch; a job timestamp
 * [seconds, microseconds] adds ".uuuuuu". Anything else (missing) is "N/A".
 */
export function formatTimestamp(ts: unknown): string {
  const pair = Array.isArray(ts) && ts.length === 2 && isSeconds(ts[0]) && isSeconds(ts[1]);
  const sec = pair ? (ts as number[])[0] : ts;
  if (!isSeconds(sec)) return 'N/A';
  const d = localDate(sec);
  const text = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${clock(d)}`;
  return pair ? `${text}.${String(Math.trunc((ts as number[])[1])).padStart(6, '0')}` : text;
}
