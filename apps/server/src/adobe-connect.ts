/**
 * The Adobe challenge login (`authmod=adobe`) at RTMP connect: @org/auth decides, this answers.
 * Every step but the last is a Connect.Rejected `_error` whose description the client parses and
 * reconnects on (FFmpeg, GStreamer rtmp2sink and OBS all do). With `challengeEveryConnect` (the
 * default), a connect with no login at all gets the need-auth refusal: OBS and FFmpeg never offer
 * credentials before that. Off, such connects go on to the stream key / signed URL checks, and only
 * clients that start the login themselves (rtmp2sink `authmod=adobe`) are challenged.
 *
 * Log lines carry the code and the user, never the description: it holds the salt and the token.
 */
import {
  ADOBE_NEED_AUTH_DESCRIPTION,
  type AdobeAuthConfig,
  type AdobeAuthenticator,
  AuthConfigError,
  type AuthLimits,
  createAdobeAuthenticator,
} from '@org/auth';
import { RtmpRejection } from '@org/rtmp';
import type { LogLimiter } from './log-limiter';
import type { Logger } from './logger';
import type { Metrics } from './metrics/metrics';

const CONNECT_REJECTED = 'NetConnection.Connect.Rejected';

/** Every answer of the login carries `authmod=adobe` on purpose: the clients parse it. */
function answer(description: string): RtmpRejection {
  return new RtmpRejection(CONNECT_REJECTED, description, { authChallenge: true });
}

export interface AdobeGate {
  /**
   * Decides one connect: the user it logged in as, undefined for an anonymous connect that may go
   * on; throws the {@link RtmpRejection} to answer with otherwise.
   */
  check(app: string, address: string | undefined, log: Logger): string | undefined;
}

export interface AdobeGateDeps {
  /** The config file's `adobeAuth` section. */
  section: Record<string, unknown>;
  /** The publish request limits (`auth.limits`), applied to the auth query too. */
  limits: AuthLimits | undefined;
  /** Shared rate limit of peer-triggered log lines. */
  limiter: LogLimiter;
  metrics?: Metrics;
}

/**
 * The gate for the `adobeAuth` section.
 * @throws AuthConfigError for a bad user entry, limit or `challengeEveryConnect`.
 */
export function createAdobeGate(deps: AdobeGateDeps): AdobeGate {
  const { challengeEveryConnect = true, ...rest } = deps.section;
  if (typeof challengeEveryConnect !== 'boolean') {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'adobeAuth.challengeEveryConnect must be true or false');
  }
  const config = { ...rest, ...(deps.limits !== undefined ? { limits: deps.limits } : {}) } as AdobeAuthConfig;
  const adobe: AdobeAuthenticator = createAdobeAuthenticator(config);
  const { metrics, limiter } = deps;
  const count = (result: string, reason: string) => metrics?.adobeLoginsTotal.inc({ result, reason });

  return {
    check(app, address, log) {
      const d = adobe.connect(app, address);
      switch (d.kind) {
        case 'anonymous':
          if (!challengeEveryConnect) return undefined;
          count('challenged', 'need_auth');
          log.debug('adobe login: asked for credentials');
          throw answer(ADOBE_NEED_AUTH_DESCRIPTION);
        case 'challenge':
          count('challenged', 'needauth');
          if (d.evicted > 0) metrics?.limitTripsTotal.inc({ limit: 'adobe_challenge_table' }, d.evicted);
          log.debug({ user: d.username }, 'adobe login: challenge sent');
          throw answer(d.description);
        case 'authenticated':
          count('accepted', 'ok');
          log.info({ user: d.username }, 'adobe login');
          return d.username;
        case 'denied': {
          count('refused', d.code);
          if (d.code === 'ERR_AUTH_ADOBE_RATE_LIMITED') {
            metrics?.limitTripsTotal.inc({ limit: 'adobe_login_failure_rate' });
          }
          const fields = { code: d.code, reason: d.reason, user: d.username, remote: address };
          limiter.log(log, 'warn', `adobe:${d.code}`, fields, 'adobe login refused');
          throw answer(d.description);
        }
      }
    },
  };
}
