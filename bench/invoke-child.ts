// Run by bench/site.ts (invokeBundle) in a fresh process: imports one function's bundle, as Lambda's Node
// runtime does at a cold start, and invokes its handler once with the event of the input file, then writes the
// import's and the invocation's times and the process's peak resident memory to the output file. It imports
// nothing but Node's own modules before the bundle, so that the bundle's import is measured cold.
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

const [bundle = '', input = '', output = ''] = process.argv.slice(2);
const { event, name, remainingMs } = JSON.parse(await readFile(input, 'utf8')) as {
  event: unknown;
  name: string;
  remainingMs: number;
};
const started = performance.now();
const module = (await import(pathToFileURL(bundle).href)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
const imported = performance.now();
const deadline = Date.now() + remainingMs;
const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: `ferry-${name}`,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:ferry-${name}`,
  memoryLimitInMB: '2048',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/ferry-${name}`,
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => deadline - Date.now(),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
const result = await module.handler(event, context);
const invoked = performance.now();
await writeFile(
  output,
  JSON.stringify({
    importMs: imported - started,
    invokeMs: invoked - imported,
    processMs: invoked,
    maxRssKb: process.resourceUsage().maxRSS,
    result,
  }),
);
// Lambda freezes the process after the answer; timers and sockets the function keeps must not hold the bench.
process.exit(0);
