// Node-RPC procedures for OS definitions and instance import/export (spec/core.md §4.3
// "OS / storage / import-export"). noded's handlers are in src/node/os-backend.ts.
import type { ProcedureSpec } from './procedures.ts';

export const OS_PROCEDURES = {
} satisfies Record<string, ProcedureSpec>;
