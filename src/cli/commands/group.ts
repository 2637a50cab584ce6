// gnt-group: its commands arrive with their capability; until then the tool lists none.
import { toolMain } from '../framework.ts';

export const main = toolMain('gnt-group', []);
