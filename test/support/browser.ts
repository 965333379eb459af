// A real browser for the status page's tests: the headless Chromium the test bed installed (TESTBED_CHROMIUM),
// driven by playwright-core through its executable path.
import { after } from 'node:test';
import { type Browser, chromium } from 'playwright-core';

let launched: Promise<Browser> | undefined;
after(async () => (await launched)?.close());

/** The test file's browser, launched at the first call and closed after the file's tests. */
export function browser(): Promise<Browser> {
  const executablePath = process.env.TESTBED_CHROMIUM;
  if (executablePath === undefined || executablePath === '') {
    throw new Error('TESTBED_CHROMIUM is not set: run the tests with `npm test`, which installs Chromium');
  }
  launched ??= chromium.launch({ executablePath, headless: true });
  return launched;
}

/** `rgb(r, g, b)` or `rgba(...)` as its channels. */
function channels(color: string): [number, number, number] {
  const [r = 0, g = 0, b = 0] = (color.match(/[\d.]+/g) ?? []).map(Number);
  return [r, g, b];
}

/** WCAG 2's contrast ratio of two CSS colours (opaque ones, as computed styles give them). */
export function contrastRatio(foreground: string, background: string): number {
  const luminance = (color: string) => {
    const [r, g, b] = channels(color).map((c) => {
      const s = c / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [lighter, darker] = [luminance(foreground), luminance(background)].sort((a, b) => b - a) as [
    number,
    number,
  ];
  return (lighter + 0.05) / (darker + 0.05);
}
