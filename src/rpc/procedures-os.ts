// Node-RPC procedures for OS definitions and instance import/export (spec/core.md §4.3
// "OS / storage / import-export"). noded's handlers are in src/node/os-backend.ts.
//
// Upstream moves disk images with import/export daemons that connect nodes directly;
// here nodes never talk to each other, so a transfer is: the OS export script writes the
// image to a file in the export directory of the instance's primary node
// (instance_disk_export), the master copies files between nodes in chunks
// (export_chunk_read / export_chunk_write), and the OS import script reads an image file
// on the new primary (instance_disk_import). Chunks travel zlib-compressed in base64,
// the [RPC_ENCODING_ZLIB_BASE64, text] form of upstream's compressed RPC arguments; a
// chunk of nothing but zeroes (most of a fresh disk) as [ENCODING_ZEROES, length].
import zlib from 'node:zlib';
import { RPC_TMO } from '../core/constants.ts';
import type { ProcedureSpec } from './procedures.ts';

export const OS_PROCEDURES = {
  /** [] → [[name, path, status, diagnose, variants, [[param, help]...], api_versions, trusted], ...] */
  os_diagnose: { timeout: RPC_TMO.FAST },
  /** [required, name, checks, params, force_variant] → bool */
  os_validate: { timeout: RPC_TMO.FAST },
  /** [inst, reinstall, debug] → null */
  instance_os_add: { timeout: RPC_TMO.ONE_DAY },
  /** [inst, old_name, debug] → null */
  instance_run_rename: { timeout: RPC_TMO.SLOW },
  /** [inst, disk_index, dest_path] → bytes written: the disk's image into a file below srv/ganeti/export. */
  instance_disk_export: { timeout: RPC_TMO.ONE_DAY },
  /** [inst, disk_index, src_path] → null: an image file below srv/ganeti/export onto the disk. */
  instance_disk_import: { timeout: RPC_TMO.ONE_DAY },
  /** [inst, disks (null where not exported)] → null: config.ini, then <name>.new becomes <name>. */
  finalize_export: { timeout: RPC_TMO.NORMAL },
  /** [] → sorted export names */
  export_list: { timeout: RPC_TMO.FAST },
  /** [path] → config.ini text */
  export_info: { timeout: RPC_TMO.FAST },
  /** [export] → null: removes srv/ganeti/export/<export> */
  export_remove: { timeout: RPC_TMO.FAST },
  /** [path, offset, length] → [chunk, file_size]; chunk is [encoding, data] */
  export_chunk_read: { timeout: RPC_TMO.NORMAL },
  /** [path, offset, chunk, last] → null; offset 0 creates or truncates the file, last syncs it */
  export_chunk_write: { timeout: RPC_TMO.NORMAL },
} satisfies Record<string, ProcedureSpec>;

/** pathutils.EXPORT_DIR as the cluster names it (each node has it below its root). */
export const EXPORT_DIR = '/srv/ganeti/export';

/** Bytes per chunk of a transfer through the master (well below noded's request limit once encoded). */
export const TRANSFER_CHUNK_SIZE = 8 * 1024 * 1024;

const ENCODING_ZLIB_BASE64 = 1;
const ENCODING_ZEROES = 2;

let zeroBuffer = Buffer.alloc(0);
/** `n` zero bytes (shared; never written to). */
export function zeroes(n: number): Buffer {
  if (zeroBuffer.length < n) zeroBuffer = Buffer.alloc(Math.max(n, 1024 * 1024));
  return zeroBuffer.subarray(0, n);
}

export type EncodedChunk = [number, string] | [number, number];

export function encodeChunk(data: Uint8Array): EncodedChunk {
  if (Buffer.from(data.buffer, data.byteOffset, data.byteLength).equals(zeroes(data.byteLength))) return [ENCODING_ZEROES, data.byteLength];
  return [ENCODING_ZLIB_BASE64, zlib.deflateSync(data).toString('base64')];
}

export function decodeChunk(chunk: unknown): Buffer {
  if (Array.isArray(chunk) && chunk.length === 2 && chunk[0] === ENCODING_ZEROES && Number.isSafeInteger(chunk[1]) &&
    chunk[1] >= 0 && chunk[1] <= TRANSFER_CHUNK_SIZE) {
    return zeroes(chunk[1]);
  }
  if (!Array.isArray(chunk) || chunk.length !== 2 || chunk[0] !== ENCODING_ZLIB_BASE64 || typeof chunk[1] !== 'string') {
    throw new Error('Invalid data chunk encoding');
  }
  // Large output pieces: the default 16 KiB ones make inflating a mostly-zero chunk several times slower.
  return zlib.inflateSync(Buffer.from(chunk[1], 'base64'), { chunkSize: 1024 * 1024 });
}
