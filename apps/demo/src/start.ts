/**
 * `npm run demo`'s entry: the CLI tour, or with `--web` the web course on a local dev server. The
 * web course needs no build of the packages (Vite compiles them from source), so it is chosen
 * before anything imports them.
 */
import { wantsWeb } from './web-server.js';

async function start(): Promise<void> {
  if (wantsWeb()) {
    const { startWebServer } = await import('./web-server.js');
    await startWebServer();
    return;
  }
  const { runDemo } = await import('./main.js');
  const { failed } = await runDemo();
  process.exitCode = failed === 0 ? 0 : 1;
}

start().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
