/** Grad-mode state of a runtime (PyTorch keeps it per thread; a runtime is our thread). */
import { injectable } from 'tsyringe';

@injectable()
export class GradMode {
  enabled = true;
  inference = false;
  anomaly = false;

  /** Runs `fn` with the flags set, restoring them afterwards even if `fn` throws. */
  run<T>(enabled: boolean, inference: boolean, fn: () => T): T {
    const pe = this.enabled;
    const pi = this.inference;
    this.enabled = enabled;
    this.inference = inference;
    try {
      return fn();
    } finally {
      this.enabled = pe;
      this.inference = pi;
    }
  }
}
