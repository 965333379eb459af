// The test bed's processes: the development kit's, shared with the demo (devkit/process.ts).
export * from '../../devkit/process.ts';
