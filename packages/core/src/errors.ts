/**
 * The one error type Nabla throws. Messages name the op, the shapes/dtypes/devices involved and
 * what was expected, and reuse PyTorch's wording where PyTorch has one, so that searching for a
 * message finds the PyTorch answer too.
 */
export class NablaError extends Error {
  /** The op or component that failed (`'add'`, `'backward'`, `'MulBackward0'`). */
  readonly op: string | undefined;

  constructor(message: string, options?: { op?: string; cause?: unknown }) {
    super(options?.op ? `${options.op}: ${message}` : message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'NablaError';
    this.op = options?.op;
  }
}

/** Formats a shape as PyTorch prints sizes: `[2, 3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
