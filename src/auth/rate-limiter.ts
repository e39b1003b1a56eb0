import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../platform/clock.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until one request is allowed again (0 when allowed). */
  retryAfterSeconds: number;
}

/** Token buckets by name: `burst` tokens at once, refilled at `perMinute`. Kept in this process. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    perMinute: number,
    private readonly burst: number,
    private readonly clock: Clock,
    private readonly maxEntries = 100_000,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Spends one token when there is one. */
  take(key: string): RateDecision {
    const bucket = this.refill(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return this.allowed(bucket);
    }
    return this.refused(bucket);
  }

  /** Whether a token is there, without spending it. */
  peek(key: string): RateDecision {
    const bucket = this.refill(key);
    return bucket.tokens >= 1 ? this.allowed(bucket) : this.refused(bucket);
  }

  private refill(key: string): Bucket {
    const nowMs = this.clock.now().getTime();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedMs: nowMs };
    bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, nowMs - bucket.updatedMs) * this.perMs);
    bucket.updatedMs = nowMs;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxEntries) {
      this.evictFull(nowMs);
    }
    return bucket;
  }

  private allowed(bucket: Bucket): RateDecision {
    return { allowed: true, limit: this.burst, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
  }

  private refused(bucket: Bucket): RateDecision {
    return {
      allowed: false,
      limit: this.burst,
      remaining: 0,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000)),
    };
  }

  /** Full buckets carry no state worth keeping. */
  private evictFull(nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (nowMs - bucket.updatedMs) * this.perMs >= this.burst) {
        this.buckets.delete(key);
      }
    }
  }
}

/**
 * A token bucket per API key: RATE_LIMIT_BURST requests at once, refilled at RATE_LIMIT_PER_MINUTE.
 * Kept in this process, so each replica enforces the limit on its own share of the traffic.
 */
@Injectable()
export class RateLimiter {
  private readonly buckets: TokenBuckets;

  constructor(@Inject(APP_CONFIG) config: AppConfig, clock: Clock) {
    this.buckets = new TokenBuckets(config.rateLimitPerMinute, config.rateLimitBurst, clock);
  }

  take(key: string): RateDecision {
    return this.buckets.take(key);
  }
}

/**
 * Failed authentications per client address: AUTH_FAILURE_BURST failures at once, refilled at
 * AUTH_FAILURE_PER_MINUTE. Only failures spend tokens; while an address has none left, every request
 * from it is refused before its key is looked up (valid and cached keys too), until a token refills.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly buckets: TokenBuckets;

  constructor(@Inject(APP_CONFIG) config: AppConfig, clock: Clock) {
    this.buckets = new TokenBuckets(config.authFailurePerMinute, config.authFailureBurst, clock);
  }

  /** Whether `address` may try to authenticate now. */
  check(address: string): RateDecision {
    return this.buckets.peek(address);
  }

  recordFailure(address: string): void {
    this.buckets.take(address);
  }
}
