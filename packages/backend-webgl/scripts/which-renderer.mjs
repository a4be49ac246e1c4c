#!/usr/bin/env node
// Prints what the webgl device runs on here (GL renderer, gpu.js kernel class), or why it cannot
// start; CI logs it before the conformance run with --device webgl. Needs `npm run build`.
import { createRuntime } from '@nabla/core';
import { webglBackend, backendInfo } from '@nabla/backend-webgl';

try {
  const rt = await createRuntime({ plugins: [webglBackend()] });
  rt.tensor([1, 2, 3], { device: 'webgl' }).exp().dataSync();
  const i = backendInfo(rt);
  console.log(`webgl: gpu.js ${i.kernelClass} (mode ${i.mode}) on ${i.renderer} (${i.vendor}); ${i.glVersion}; max texture ${i.maxTextureSize}`);
  await rt.dispose();
} catch (e) {
  console.log(`webgl: cannot start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
