// Where a commit status links to: the local server's status page, or in AWS the worker's logs of that
// deployment in the CloudWatch console.

import type { CommitStatus } from '../../core/model/feedback.ts';
import { partId } from '../../core/model/part.ts';

/** The console's host for a region: its own partition's for China and GovCloud. */
function consoleOrigin(region: string): string {
  if (region.startsWith('cn-')) return `https://${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return `https://${region}.console.amazonaws-us-gov.com`;
  return `https://${region}.console.aws.amazon.com`;
}

/** The console's own escaping of its fragment: percent-encoded, then `%` written `$`. */
const consoleEscape = (text: string) => encodeURIComponent(text).replace(/%/g, '$');

/**
 * The CloudWatch console's events of a log group, filtered by the deployment's id (which the worker logs with
 * its outcome), or by the commit while no deployment has started (a queued status).
 */
export function cloudWatchLogsLink(region: string, logGroup: string): (status: CommitStatus) => string {
  const group = consoleEscape(encodeURIComponent(logGroup));
  return (status) => {
    const query = consoleEscape(
      `?filterPattern=${encodeURIComponent(`"${status.deploymentId ?? status.commit}"`)}`,
    );
    return `${consoleOrigin(region)}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${group}/log-events${query}`;
  };
}

/** The local server's status page of the status's part. */
export const statusPageLink =
  (serverUrl: string) =>
  (status: CommitStatus): string =>
    `${serverUrl.replace(/\/+$/, '')}/parts/${partId(status.key)}`;
