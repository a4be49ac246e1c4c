/** Device switcher: what this browser has, and the same code run on each device. */
import { sameCode, type DeviceRun } from '../lessons/devices.js';
import lessonSource from '../lessons/devices.ts?raw';
import { codeBlock, errorText, fmt, h, setStatus } from '../ui/dom.js';
import type { DeviceStatus } from '../runtime.js';
import type { Page } from './page.js';

export function devicesPage(devices: () => Promise<DeviceStatus[]>): Page {
  return {
    id: 'devices',
    title: 'Device switcher',
    teaches: 'cpu, webgpu and webgl with the same code; which adapter ran',
    async render(root) {
      const list = h('table', { id: 'device-list' });
      const runs = h('table', { id: 'device-runs' });
      root.append(
        h('h1', {}, 'Device switcher'),
        h('p', {}, 'Nabla installs a backend per device; tensors carry their device, and every op runs where its inputs live. The selector at the top right picks the device every lab runs on. Below, the same code runs on each device this browser has.'),
        h('p', { class: 'status' }, ''),
        list,
        h('h2', {}, 'The same code on each device'),
        runs,
        codeBlock('lessons/devices.ts — the code this page runs', lessonSource),
      );
      setStatus(root, 'running');
      try {
        const all = await devices();
        list.append(h('tr', {}, h('th', {}, 'device'), h('th', {}, 'available'), h('th', {}, 'backend / adapter, or why not')));
        for (const d of all) list.append(h('tr', { 'data-device': d.device, 'data-available': String(d.available) }, h('td', {}, d.device), h('td', {}, d.available ? 'yes' : 'no'), h('td', {}, d.detail)));
        runs.append(h('tr', {}, h('th', {}, 'device'), h('th', {}, 'ran on'), h('th', {}, 'loss'), h('th', {}, 'max |grad − cpu grad|'), h('th', {}, 'ms (first run, includes compiling)')));
        let cpu: DeviceRun | null = null;
        for (const d of all.filter((q) => q.available)) {
          try {
            const r = await sameCode(d.device);
            cpu ??= r;
            const diff = Math.max(...r.grad.map((g, i) => Math.abs(g - cpu!.grad[i]!)));
            runs.append(h('tr', { 'data-device': r.device, 'data-loss': String(r.loss), 'data-graddiff': String(diff) }, h('td', {}, r.device), h('td', { class: 'ran-on' }, r.ranOn), h('td', {}, fmt(r.loss, 6)), h('td', {}, diff.toExponential(1)), h('td', {}, fmt(r.ms, 3))));
          } catch (e) {
            runs.append(h('tr', { 'data-device': d.device, 'data-error': errorText(e) }, h('td', {}, d.device), h('td', { colspan: '4' }, `error: ${errorText(e)}`)));
          }
        }
        setStatus(root, 'done', `${all.filter((d) => d.available).length} devices`);
      } catch (e) {
        setStatus(root, 'error', errorText(e));
      }
    },
  };
}
