/** Tiny DOM helpers: an element builder and the code block that shows a lesson's real source. */

type Child = Node | string | null | undefined | false;

/** `h('p', { class: 'note' }, 'text', child)`: an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/**
 * The source a page runs, shown as is: pages import their lesson module twice, once to run it and
 * once as text (`?raw`), so what a reader sees is exactly what executed.
 */
export function codeBlock(title: string, source: string): HTMLElement {
  const body = source.replace(/^\/\*\*[\s\S]*?\*\/\n/, '').trim();
  return h('details', { class: 'code', open: '' }, h('summary', {}, title), h('pre', {}, h('code', {}, body)));
}

/** A labelled number the tests read back: `<span data-testid="x-grad">2</span>`. */
export function readout(label: string, id: string, value = '…'): HTMLElement {
  return h('div', { class: 'readout' }, h('span', { class: 'label' }, label), h('span', { 'data-testid': id, class: 'value' }, value));
}

export function setText(root: ParentNode, id: string, text: string): void {
  const el = root.querySelector(`[data-testid="${id}"]`);
  if (el) el.textContent = text;
}

/** Marks a page's lesson as finished (or failed): the tests wait for this attribute. */
export function setStatus(root: HTMLElement, status: 'running' | 'done' | 'error', message = ''): void {
  root.dataset.status = status;
  const el = root.querySelector('.status');
  if (el) el.textContent = status === 'running' ? 'running…' : status === 'done' ? `done ${message}` : `error: ${message}`;
}

export const fmt = (v: number, digits = 4): string => (Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : String(v));

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
