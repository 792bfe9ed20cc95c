// One logger shape for every process: JSON lines that the stack prefixes with the part name.
import pino from 'pino';

export function createLogger(name: string, level = 'info') {
  return pino({ name, level, base: { pid: process.pid } });
}
