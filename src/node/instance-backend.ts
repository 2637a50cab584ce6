// noded's instance and block-device procedures (src/rpc/procedures-instance.ts).
import type { Handler } from './context.ts';
import type { INSTANCE_PROCEDURES } from '../rpc/procedures-instance.ts';

export const INSTANCE_BACKEND: Record<keyof typeof INSTANCE_PROCEDURES, Handler> = {
};
