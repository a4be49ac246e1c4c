#!/usr/bin/env node
// Prints the WebGPU adapter that `webgpuBackend()` with no options gets on this machine, so that
// logs of runs that use it (the conformance suite on --device webgpu) say what ran.
import { probeNodeAdapter } from '@nabla/backend-webgpu';

const r = await probeNodeAdapter();
console.log(r.ok ? `webgpu adapter: ${r.description} (choice: ${r.choice})` : `webgpu adapter: none (${r.reason})`);
