// Zeroing a range of a disk (blockdev_wipe). The master wipes a new disk in chunks of at
// most 10% of its size and 1 GiB (upstream's WipeDisks, which logs the progress); each
// call here zeroes exactly the range it is given, 1 MiB at a time like upstream's
// `dd if=/dev/zero bs=1M seek=<offset> count=<size> oflag=direct`, and is durable when it
// returns.
import fsp from 'node:fs/promises';
import { BlockDeviceError, fsErrorText } from './errors.ts';

export const WIPE_BLOCK_SIZE = 1024 * 1024;

/** Called after every block with the MiB written so far and the MiB asked for. */
export type WipeProgress = (doneMib: number, totalMib: number) => void;

/**
 * Write zeroes over [offsetMib, offsetMib + sizeMib) of `localPath` (a file or a block
 * device, which must exist). `deviceMib` is the device's size as the master knows it.
 */
export async function zeroRange(localPath: string, shownPath: string, deviceMib: number, offsetMib: number, sizeMib: number, progress?: WipeProgress): Promise<void> {
  if (!Number.isInteger(offsetMib)) throw new BlockDeviceError(`Invalid offset ${JSON.stringify(offsetMib)}`);
  if (!Number.isInteger(sizeMib)) throw new BlockDeviceError(`Invalid size ${JSON.stringify(sizeMib)}`);
  if (offsetMib < 0) throw new BlockDeviceError('Negative offset');
  if (sizeMib < 0) throw new BlockDeviceError('Negative size');
  if (offsetMib > deviceMib) throw new BlockDeviceError('Wipe offset is bigger than device size');
  if (offsetMib + sizeMib > deviceMib) throw new BlockDeviceError('Wipe offset and size are bigger than device size');
  const zeroes = Buffer.alloc(WIPE_BLOCK_SIZE);
  let fh: fsp.FileHandle;
  try {
    // r+: never create (a missing disk is an error) and never truncate.
    fh = await fsp.open(localPath, 'r+');
  } catch (err) {
    throw new BlockDeviceError(`Cannot open ${shownPath} for wiping: ${fsErrorText(err)}`);
  }
  try {
    for (let i = 0; i < sizeMib; i++) {
      let written = 0;
      const position = (offsetMib + i) * WIPE_BLOCK_SIZE;
      while (written < WIPE_BLOCK_SIZE) {
        const { bytesWritten } = await fh.write(zeroes, written, WIPE_BLOCK_SIZE - written, position + written);
        written += bytesWritten;
      }
      progress?.(i + 1, sizeMib);
    }
    await fh.datasync();
  } catch (err) {
    throw new BlockDeviceError(`Wipe of ${shownPath} failed at offset ${offsetMib} MiB: ${fsErrorText(err)}`);
  } finally {
    await fh.close();
  }
}
