/** `enose demo` placeholder, replaced below. */
import type { Command } from './args.js';
export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the main job on the shipped default data',
  usage: 'Usage: enose demo\n',
  async run(_argv, ctx) {
    ctx.stdout('demo: not built yet\n');
    return 0;
  },
};
