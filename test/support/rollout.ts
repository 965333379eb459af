// Roll-outs on the test bed's apiserver, which runs no controllers: the development kit's stand-in, shared with
// the demo (devkit/rollouts.ts).
export { NEVER_READY, simulateRollouts } from '../../devkit/rollouts.ts';
