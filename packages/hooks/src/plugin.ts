/**
 * The `hooks()` plugin. Everything in `@nabla/hooks` works on any runtime without it (the tools
 * are built on core's public hooks and events); installing it records the package in the
 * runtime's plugin list and checks the core version, as every Nabla plugin does.
 */
import type { Plugin } from '@nabla/core';

export const VERSION = '0.1.0';

/**
 * @example
 * await nabla.use(hooks());
 * nabla.defaultRuntime().plugins(); // [..., { name: '@nabla/hooks', version: '0.1.0' }]
 */
export function hooks(): Plugin {
  return {
    name: '@nabla/hooks',
    version: VERSION,
    coreRange: '^0.1.0',
    install() {},
  };
}
