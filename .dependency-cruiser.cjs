// Layering rules, checked by `npm run check`: the core imports no adapter, runtime or CDK code; ports import no
// engine; the AWS and local adapters never import each other; the runtime never imports the infrastructure.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'The core knows nothing of adapters, composition roots, handlers or the CDK.',
      severity: 'error',
      from: { path: '^functions/core/' },
      to: {
        path: [
          '^functions/(adapters|runtime|webhook|worker|scheduler|reconciler)/',
          '^lib/',
          '^bin/',
          'aws-cdk-lib',
          'constructs',
          '@aws-sdk/',
          '@aws-lambda-powertools/',
          '@kubernetes/client-node',
          'isomorphic-git',
        ],
      },
    },
    {
      name: 'ports-are-interfaces',
      comment: 'ports.ts holds interfaces: it may name the model, never the engine or the use cases.',
      severity: 'error',
      from: { path: '^functions/core/ports\\.ts$' },
      to: { path: '^functions/core/', pathNot: ['^functions/core/(model/|config\\.ts$|objects\\.ts$)'] },
    },
    {
      name: 'model-is-the-bottom',
      comment: 'The domain model depends on nothing of the core but the configuration, objects and errors.',
      severity: 'error',
      from: { path: '^functions/core/model/' },
      to: {
        path: '^functions/core/',
        pathNot: ['^functions/core/(model/|config\\.ts$|objects\\.ts$|errors\\.ts$)'],
      },
    },
    {
      name: 'aws-and-local-adapters-apart',
      severity: 'error',
      from: { path: '^functions/adapters/aws/' },
      to: { path: '^functions/adapters/local/' },
    },
    {
      name: 'local-and-aws-adapters-apart',
      severity: 'error',
      from: { path: '^functions/adapters/local/' },
      to: { path: '^functions/adapters/aws/' },
    },
    {
      name: 'adapters-are-not-roots',
      comment: 'Adapters implement ports; only the composition roots wire them together.',
      severity: 'error',
      from: { path: '^functions/adapters/' },
      to: { path: '^functions/(runtime|webhook|worker|scheduler|reconciler)/' },
    },
    {
      name: 'runtime-without-infrastructure',
      comment:
        'functions/ never imports lib/ (the CDK); lib/ may import functions/names.ts and the config schema.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: ['^lib/', '^bin/', 'aws-cdk-lib', 'constructs', 'cdk-nag'] },
    },
    {
      name: 'runtime-without-devkit',
      comment:
        'The runtime and the CDK carry no build tooling: devkit/ (builds and local servers) and demo/ serve the tests and the demo only.',
      severity: 'error',
      from: { path: '^(functions|lib)/' },
      to: { path: ['^devkit/', '^demo/', '^test/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^(functions|lib|bin|devkit|demo)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
