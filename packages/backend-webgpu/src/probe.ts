/**
 * Finding a WebGPU adapter in Node, including the software ones a machine without a GPU has.
 *
 * Tried in order (the first that gives an adapter wins):
 * 1. `NABLA_WEBGPU_ADAPTER` = `default` | `swiftshader` | `opengl` forces one choice;
 * 2. Dawn's default backend (Vulkan on Linux) when `VK_ICD_FILENAMES` is already set, or when
 *    no SwiftShader is installed;
 * 3. SwiftShader's Vulkan driver from Debian's `chromium` package (sets `VK_ICD_FILENAMES`);
 * 4. Dawn's OpenGL backend on Mesa (llvmpipe without a GPU), compatibility feature level (sets
 *    `EGL_PLATFORM=surfaceless` when unset).
 * Environment variables must be set before Dawn first starts in the process, which is why this
 * runs before any backend is made (tests and benchmarks call it first).
 */
import { acquireAdapterOnly, type AdapterOptions } from './adapter.js';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export type ProbeResult =
  | { readonly ok: true; readonly options: AdapterOptions; readonly description: string; readonly choice: string }
  | { readonly ok: false; readonly reason: string };

interface Candidate {
  readonly choice: string;
  readonly options: AdapterOptions;
  readonly env: Record<string, string>;
}

/** `fs.existsSync`, loaded lazily so that browser bundles never see `node:fs`. */
async function fileExists(path: string): Promise<boolean> {
  const specifier = 'node:fs';
  const fs = (await import(/* @vite-ignore */ specifier)) as { existsSync(p: string): boolean };
  return fs.existsSync(path);
}

async function candidates(): Promise<Candidate[]> {
  const swift: Candidate = { choice: 'swiftshader', options: {}, env: { VK_ICD_FILENAMES: SWIFTSHADER_ICD } };
  const gl: Candidate = {
    choice: 'opengl',
    options: { dawnFlags: ['backend=opengl'], featureLevel: 'compatibility' },
    env: { EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' },
  };
  const def: Candidate = { choice: 'default', options: {}, env: {} };
  const forced = process.env.NABLA_WEBGPU_ADAPTER;
  if (forced === 'swiftshader') return [swift];
  if (forced === 'opengl') return [gl];
  if (forced === 'default') return [def];
  const haveSwift = await fileExists(SWIFTSHADER_ICD);
  if (process.env.VK_ICD_FILENAMES || !haveSwift) return [def, gl];
  return [swift, gl];
}

/** The options for `webgpuBackend()` that give an adapter here, or why there is none. */
export async function probeNodeAdapter(): Promise<ProbeResult> {
  const reasons: string[] = [];
  for (const c of await candidates()) {
    for (const [k, v] of Object.entries(c.env)) if (!process.env[k]) process.env[k] = v;
    try {
      const description = await acquireAdapterOnly(c.options);
      return { ok: true, options: c.options, description, choice: c.choice };
    } catch (e) {
      reasons.push(`${c.choice}: ${(e as Error).message.split('. ')[0]}`);
    }
  }
  return { ok: false, reason: reasons.join('; ') };
}
