/**
 * `npm run demo -- --web`: serves the web course (apps/demo/web) with Vite's dev server on
 * localhost and prints its URL. npm turns `--web` after the root script's `--` into
 * `npm_config_web=true` for the nested `npm run start`, so both forms are accepted.
 */
import { fileURLToPath } from 'node:url';

export function wantsWeb(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.includes('--web') || env.npm_config_web === 'true';
}

/** Starts the dev server (port 5173, or the next free one) and resolves with its URL. */
export async function startWebServer(port = Number(process.env.PORT ?? 5173)): Promise<string> {
  const { createServer } = await import('vite');
  const server = await createServer({ configFile: fileURLToPath(new URL('../web/vite.config.ts', import.meta.url)), server: { port } });
  await server.listen();
  const url = server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${port}/`;
  console.log(`Nabla's autograd course is served at ${url}  (Ctrl+C stops it)`);
  return url;
}
