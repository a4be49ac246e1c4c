/**
 * The course's shell: a hash router over the labs, and the device selector every lab runs on.
 * `?device=webgpu` in the address picks the device at load (the tests use it).
 */
import * as nabla from '@nabla/core';
import { currentDevice, selectDevice, setupDevices, type DeviceName } from './runtime.js';
import { h } from './ui/dom.js';
import type { Page } from './pages/page.js';
import { graphPage } from './pages/graph.js';
import { activationsPage } from './pages/activations.js';
import { trainingPage } from './pages/training.js';
import { memoryPage } from './pages/memory.js';
import { devicesPage } from './pages/devices.js';

const PAGES: readonly Page[] = [graphPage, activationsPage(setupDevices), trainingPage, memoryPage, devicesPage(setupDevices)];

const main = document.getElementById('page')!;
const nav = document.getElementById('nav')!;
const select = document.getElementById('device') as HTMLSelectElement;

function home(root: HTMLElement): void {
  root.append(
    h('h1', {}, 'Autograd you can watch'),
    h('p', {}, `Nabla ${nabla.VERSION} is PyTorch's autograd in TypeScript. Each lab runs live in this page, and the code shown under it is the code that ran.`),
    h('ul', { class: 'labs' }, ...PAGES.map((p) => h('li', {}, h('a', { href: `#/${p.id}` }, p.title), ` — ${p.teaches}`))),
  );
  root.dataset.status = 'done';
}

/** Shows the page the address names; a page that is left stops its lesson when it sees it is detached. */
async function route(): Promise<void> {
  const id = location.hash.replace(/^#\/?/, '').split('?')[0];
  const page = PAGES.find((p) => p.id === id);
  nav.querySelectorAll('a').forEach((a) => a.classList.toggle('active', a.getAttribute('href') === `#/${id}`));
  const root = h('section', { class: 'page', 'data-page': page?.id ?? 'home', 'data-device': currentDevice() });
  main.replaceChildren(root);
  if (!page) return home(root);
  await page.render(root, currentDevice());
}

async function start(): Promise<void> {
  nav.replaceChildren(...PAGES.map((p) => h('a', { href: `#/${p.id}` }, p.title)));
  main.replaceChildren(h('p', {}, 'installing the backends…'));
  const devices = await setupDevices();
  for (const d of devices) {
    const o = h('option', { value: d.device, title: d.detail }, d.available ? d.device : `${d.device} (not available)`);
    o.disabled = !d.available;
    select.append(o);
  }
  const wanted = new URLSearchParams(location.search).get('device') as DeviceName | null;
  selectDevice(devices.find((d) => d.device === wanted && d.available)?.device ?? 'cpu');
  select.value = currentDevice();
  const info = document.getElementById('device-info');
  const describe = (): void => {
    if (info) info.textContent = devices.find((d) => d.device === currentDevice())!.detail;
  };
  describe();
  select.addEventListener('change', () => {
    selectDevice(select.value as DeviceName);
    describe();
    void route();
  });
  window.addEventListener('hashchange', () => void route());
  await route();
}

void start();
