import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/** EKS accepts a token for 15 minutes; Ferry renews it a minute early. */
export const EKS_TOKEN_LIFETIME_MS = 14 * 60 * 1000;

/**
 * A bearer token for an EKS cluster, as `aws eks get-token` makes it: `k8s-aws-v1.` and the base64url of a
 * presigned STS GetCallerIdentity URL (regional endpoint) whose signed headers include `x-k8s-aws-id`, the
 * cluster's name. Built here because neither kubectl nor the AWS CLI exists in Lambda.
 */
export async function eksToken(
  clusterName: string,
  region: string,
  credentials: AwsCredentialIdentityProvider = defaultProvider(),
): Promise<string> {
  const hostname = `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: Sha256 });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': clusterName },
    },
    { expiresIn: 60 },
  );
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(signed.query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== null) query.append(key, item);
  }
  const url = `https://${hostname}/?${query.toString()}`;
  return `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`;
}
