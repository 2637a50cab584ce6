// noded's OS-definition and import/export procedures (src/rpc/procedures-os.ts).
import type { Handler } from './context.ts';
import type { OS_PROCEDURES } from '../rpc/procedures-os.ts';

export const OS_BACKEND: Record<keyof typeof OS_PROCEDURES, Handler> = {
};
