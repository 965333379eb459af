// The test bed's kube-apiserver and etcd: the development kit's, shared with the demo (devkit/kubernetes.ts).
export * from '../../devkit/kubernetes.ts';
