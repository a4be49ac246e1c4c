/** Lesson 2: the backward graph — node names, nextFunctions, and leaves' AccumulateGrad. */
import * as nabla from '@nabla/core';
import type { Node, Tensor } from '@nabla/core';
import type { Lesson } from '../lesson.js';

/** The graph below `node` as an indented tree, naming the leaves it ends in. */
function drawGraph(node: Node, leafNames: Map<Tensor, string>, indent = '', last = true, top = true): string[] {
  const variable = (node as { variable?: Tensor }).variable;
  const label = variable ? `${node.name()} (${leafNames.get(variable) ?? '?'})` : node.name();
  const lines = [top ? `    ${label}` : `    ${indent}${last ? '└─ ' : '├─ '}${label}`];
  const children = node.nextFunctions.filter(([n]) => n !== null);
  children.forEach(([child], i) => {
    const more = top ? '' : indent + (last ? '   ' : '│  ');
    lines.push(...drawGraph(child!, leafNames, more, i === children.length - 1, false));
  });
  return lines;
}

export const theGraph: Lesson = {
  title: 'The graph and its nodes',
  run(t) {
    t.say('Every op on tensors that require grad adds a node, named as in PyTorch.');
    t.code('const a = nabla.tensor(1, { requiresGrad: true }), b = nabla.tensor(2, { requiresGrad: true })', 'const c = a.mul(b), d = c.add(a), e = d.relu()');
    const a = nabla.tensor(1, { requiresGrad: true });
    const b = nabla.tensor(2, { requiresGrad: true });
    const c = a.mul(b);
    const d = c.add(a);
    const e = d.relu();
    t.check('c.gradFn.name()', c.gradFn!.name(), 'MulBackward0');
    t.check('d.gradFn.name()', d.gradFn!.name(), 'AddBackward0');
    t.check('e.gradFn.name()', e.gradFn!.name(), 'ReluBackward0');

    t.say('nextFunctions are the edges towards the inputs; leaves end in AccumulateGrad:');
    for (const line of drawGraph(e.gradFn!, new Map([[a, 'a'], [b, 'b']]))) t.say(line);
    const chain = [e.gradFn!.name(), ...e.gradFn!.nextFunctions.map(([n]) => n!.name())];
    t.check('e → next', chain.join(' → '), 'ReluBackward0 → AddBackward0');
    t.check(
      'd.gradFn.nextFunctions',
      d.gradFn!.nextFunctions.map(([n]) => n!.name()),
      ['MulBackward0', 'AccumulateGrad'],
    );

    t.code('e.backward()');
    e.backward();
    t.check('a.grad', a.grad, 3, { why: 'b + 1' });
    t.check('b.grad', b.grad, 1, { why: 'a' });
  },
};
