// The page's throughput, counted once: processes finished per 5 s over the last 5 minutes, drawn
// as one SVG polyline (attributes only: the page's CSP allows no inline style or script), and the
// rate now (the last full 5 s and the part of the current 5 s gone by).
const BUCKET_MS = 5000;
const BUCKETS = 60;
const WIDTH = 300;
const HEIGHT = 60;

export class ThroughputChart {
  constructor(line, caption) {
    this.line = line;
    this.caption = caption;
    this.buckets = new Array(BUCKETS).fill(0);
    this.since = performance.now();  // when the newest bucket began
  }

  ended() {
    this.roll();
    this.buckets[BUCKETS - 1]++;
  }

  roll() {
    const now = performance.now();
    if (now - this.since >= BUCKETS * BUCKET_MS) {  // away longer than the picture (a hidden tab): start over
      this.buckets.fill(0);
      this.since = now;
    }
    while (now - this.since >= BUCKET_MS) {
      this.buckets.shift();
      this.buckets.push(0);
      this.since += BUCKET_MS;
    }
  }

  perSecond() {
    this.roll();
    const seconds = (BUCKET_MS + performance.now() - this.since) / 1000;
    return (this.buckets[BUCKETS - 2] + this.buckets[BUCKETS - 1]) / seconds;
  }

  draw() {
    this.roll();
    const peak = Math.max(...this.buckets);
    const scale = (HEIGHT - 4) / Math.max(1, peak);
    this.line.setAttribute("points", this.buckets.map((n, i) =>
      `${(i * WIDTH / (BUCKETS - 1)).toFixed(1)},${(HEIGHT - 2 - n * scale).toFixed(1)}`).join(" "));
    this.line.dataset.peak = peak;
    this.caption.textContent = `Processes finished per 5 s, the last 5 minutes (peak ${peak})`;
  }
}
