// gnt-cluster verify (and its output in Ganeti's line style).
import type { Command } from '../framework.ts';

export const verifyCommands: Command[] = [];
