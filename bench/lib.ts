// What the benchmarks use, taken from the package's public entry as a user would.
export { getBackend, getOptimizer, tasks, train, data } from 'lopt';
import { data } from 'lopt';

export function locateFashionMnistDir(): string {
  const dir = data.locateFashionMnist();
  if (!dir) throw new Error('Fashion-MNIST not found: apt-get install dataset-fashion-mnist');
  return dir;
}
