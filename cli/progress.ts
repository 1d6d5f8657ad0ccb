/**
 * A one-line progress bar on stderr for long work (simulate, bench, replay). Redraws at most
 * ten times a second and only on a terminal, so logs and CI output stay clean.
 */
export function progressBar(label: string, total: number, unit = ""): { update(done: number): void; stop(): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  const draw = (done: number) => {
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(frac * width);
    process.stderr.write(`\r${label} [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${Math.round(frac * 100)}% ${Math.round(done)}/${total}${unit}`);
  };
  return {
    update(done) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done);
    },
    stop() {
      if (tty) {
        draw(total);
        process.stderr.write("\n");
      }
    },
  };
}
