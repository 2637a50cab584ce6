// The storage layer's failures. The RPC procedures turn them into RpcFail messages with
// upstream's prefixes ("Can't create block device: ...") in one place
// (src/node/instance-backend.ts).

/** A block device could not be created, found, assembled, grown, ... (upstream's BlockDeviceError). */
export class BlockDeviceError extends Error {}

/** A file storage path the master sent is not acceptable on this node (upstream's FileStoragePathError). */
export class FileStoragePathError extends Error {}

/** Python's "[Errno N] Text" for a failed file-system call, without this node's root in it. */
export function fsErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = e?.code ? ERRNO_TEXT[e.code] : undefined;
  if (!text) return e?.code ?? String((err as Error)?.message ?? err);
  const errno = e.errno === undefined ? '' : `[Errno ${Math.abs(e.errno)}] `;
  return `${errno}${text}`;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EEXIST: 'File exists',
  ENOTEMPTY: 'Directory not empty',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EXDEV: 'Invalid cross-device link',
  EBUSY: 'Device or resource busy',
  EIO: 'Input/output error',
  EFBIG: 'File too large',
  ELOOP: 'Too many levels of symbolic links',
};
