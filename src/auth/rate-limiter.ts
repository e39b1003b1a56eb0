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

/**
 * A token bucket per API key: RATE_LIMIT_BURST requests at once, refilled at RATE_LIMIT_PER_MINUTE.
 * Kept in this process, so each replica enforces the limit on its own share of the traffic.
 */
@Injectable()
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly burst: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.perMs = config.rateLimitPerMinute / 60_000;
    this.burst = config.rateLimitBurst;
  }

  take(key: string): RateDecision {
    const nowMs = this.clock.now().getTime();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedMs: nowMs };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (nowMs - bucket.updatedMs) * this.perMs);
    bucket.updatedMs = nowMs;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) {
      this.evictFull(nowMs);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, limit: this.burst, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
    }
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
