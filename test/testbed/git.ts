// The test bed's Git server: the development kit's, shared with the demo (devkit/git-server.ts).
export * from '../../devkit/git-server.ts';
