CREATE TABLE "plans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"name" text NOT NULL UNIQUE,
	"window" text NOT NULL,
	"premium_allowance_tokens" bigint NOT NULL,
	"concurrency" integer,
	"continuation_allowed" boolean NOT NULL,
	"fallback_allowed" boolean NOT NULL,
	"premium_model_id" uuid NOT NULL,
	"premium_tier" text NOT NULL,
	"continuation_model_id" uuid,
	"continuation_tier" text,
	"fallback_model_id" uuid,
	"fallback_tier" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plans_window_check" CHECK ("window" in ('day', 'week', 'month')),
	CONSTRAINT "plans_limits_check" CHECK ("premium_allowance_tokens" >= 0 and ("concurrency" is null or "concurrency" > 0)),
	CONSTRAINT "plans_lanes_check" CHECK ("premium_tier" in ('cheap', 'resale', 'byok')
        and ("continuation_model_id" is null) = ("continuation_tier" is null) and ("continuation_tier" is null or "continuation_tier" in ('cheap', 'resale', 'byok'))
        and ("fallback_model_id" is null) = ("fallback_tier" is null) and ("fallback_tier" is null or "fallback_tier" in ('cheap', 'resale', 'byok')))
);
--> statement-breakpoint
CREATE TABLE "model_byok_targets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"model_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"upstream_model" text NOT NULL,
	"list_input_per_million" bigint NOT NULL,
	"list_output_per_million" bigint NOT NULL,
	"list_cached_input_per_million" bigint,
	"list_cache_write_per_million" bigint,
	"list_reasoning_per_million" bigint,
	CONSTRAINT "model_byok_targets_model_provider_key" UNIQUE("model_id","provider"),
	CONSTRAINT "model_byok_targets_price_check" CHECK (("list_input_per_million" is null or "list_input_per_million" >= 0) and ("list_output_per_million" is null or "list_output_per_million" >= 0) and ("list_cached_input_per_million" is null or "list_cached_input_per_million" >= 0) and ("list_cache_write_per_million" is null or "list_cache_write_per_million" >= 0) and ("list_reasoning_per_million" is null or "list_reasoning_per_million" >= 0))
);
--> statement-breakpoint
CREATE TABLE "model_sell_prices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"model_id" uuid NOT NULL,
	"tier" text NOT NULL,
	"input_per_million" bigint NOT NULL,
	"output_per_million" bigint NOT NULL,
	"cached_input_per_million" bigint,
	"cache_write_per_million" bigint,
	"reasoning_per_million" bigint,
	"effective_from" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_sell_prices_model_tier_effective_key" UNIQUE("model_id","tier","effective_from"),
	CONSTRAINT "model_sell_prices_tier_check" CHECK ("tier" in ('cheap', 'resale')),
	CONSTRAINT "model_sell_prices_price_check" CHECK (("input_per_million" is null or "input_per_million" >= 0) and ("output_per_million" is null or "output_per_million" >= 0) and ("cached_input_per_million" is null or "cached_input_per_million" >= 0) and ("cache_write_per_million" is null or "cache_write_per_million" >= 0) and ("reasoning_per_million" is null or "reasoning_per_million" >= 0))
);
--> statement-breakpoint
CREATE TABLE "byok_credentials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"org_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"credential_sealed" text NOT NULL,
	"credential_last4" text NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "byok_credentials_org_provider_key" UNIQUE("org_id","provider")
);
--> statement-breakpoint
CREATE TABLE "platform_settings" (
	"id" boolean PRIMARY KEY DEFAULT true,
	"byok_fee_bps" integer DEFAULT 500 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "platform_settings_single_row" CHECK ("id"),
	CONSTRAINT "platform_settings_byok_fee_check" CHECK ("byok_fee_bps" between 0 and 10000)
);
--> statement-breakpoint
ALTER TABLE "provider_channels" RENAME COLUMN "api_key_sealed" TO "credential_sealed";--> statement-breakpoint
ALTER TABLE "provider_channels" RENAME COLUMN "api_key_last4" TO "credential_last4";--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "allowed_tiers" text[];--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "plan_id" uuid;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "allowed_tiers" text[];--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "provider" text DEFAULT 'custom' NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "tier" text DEFAULT 'resale' NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "enabled" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "connect_timeout_ms" integer DEFAULT 10000 NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "first_byte_timeout_ms" integer DEFAULT 60000 NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "idle_timeout_ms" integer DEFAULT 60000 NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "total_timeout_ms" integer DEFAULT 600000 NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "retries" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "model_map" jsonb DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "extra_headers" jsonb DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "max_concurrency" integer DEFAULT 1000 NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_channels" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "model_targets" ADD COLUMN "id" uuid DEFAULT gen_random_uuid();--> statement-breakpoint
ALTER TABLE "model_targets" ADD COLUMN "cost_input_per_million" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "model_targets" ADD COLUMN "cost_output_per_million" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "model_targets" ADD COLUMN "cost_cached_input_per_million" bigint;--> statement-breakpoint
ALTER TABLE "model_targets" ADD COLUMN "cost_cache_write_per_million" bigint;--> statement-breakpoint
ALTER TABLE "model_targets" ADD COLUMN "cost_reasoning_per_million" bigint;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "max_output_tokens" integer DEFAULT 4096 NOT NULL;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "context_window" integer;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "client_request_id" text;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "lane" text;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "provider" text;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "byok_credential_id" uuid;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "endpoint" text DEFAULT '/v1/chat/completions' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "cached_input_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "cache_write_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "reasoning_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "charge_kind" text DEFAULT 'usage' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "provider_cost" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "hold" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "over_hold" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "attempts" jsonb DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "error_code" text;--> statement-breakpoint
ALTER TABLE "provider_channels" DROP COLUMN "protocol";--> statement-breakpoint
ALTER TABLE "model_targets" DROP CONSTRAINT "model_targets_pkey";--> statement-breakpoint
ALTER TABLE "model_targets" ADD PRIMARY KEY ("id");--> statement-breakpoint
ALTER TABLE "usage_records" ALTER COLUMN "channel_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ALTER COLUMN "upstream_model" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ALTER COLUMN "input_tokens" SET DATA TYPE bigint USING "input_tokens"::bigint;--> statement-breakpoint
ALTER TABLE "usage_records" ALTER COLUMN "input_tokens" SET DEFAULT 0;--> statement-breakpoint
ALTER TABLE "usage_records" ALTER COLUMN "output_tokens" SET DATA TYPE bigint USING "output_tokens"::bigint;--> statement-breakpoint
ALTER TABLE "usage_records" ALTER COLUMN "output_tokens" SET DEFAULT 0;--> statement-breakpoint
ALTER TABLE "model_targets" ADD CONSTRAINT "model_targets_model_channel_upstream_key" UNIQUE("model_id","channel_id","upstream_model");--> statement-breakpoint
CREATE INDEX "model_targets_channel_id_idx" ON "model_targets" ("channel_id");--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_premium_model_id_models_id_fkey" FOREIGN KEY ("premium_model_id") REFERENCES "models"("id");--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_continuation_model_id_models_id_fkey" FOREIGN KEY ("continuation_model_id") REFERENCES "models"("id");--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_fallback_model_id_models_id_fkey" FOREIGN KEY ("fallback_model_id") REFERENCES "models"("id");--> statement-breakpoint
ALTER TABLE "orgs" ADD CONSTRAINT "orgs_plan_id_plans_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "plans"("id");--> statement-breakpoint
ALTER TABLE "model_byok_targets" ADD CONSTRAINT "model_byok_targets_model_id_models_id_fkey" FOREIGN KEY ("model_id") REFERENCES "models"("id");--> statement-breakpoint
ALTER TABLE "model_sell_prices" ADD CONSTRAINT "model_sell_prices_model_id_models_id_fkey" FOREIGN KEY ("model_id") REFERENCES "models"("id");--> statement-breakpoint
ALTER TABLE "byok_credentials" ADD CONSTRAINT "byok_credentials_org_id_orgs_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id");--> statement-breakpoint
ALTER TABLE "orgs" ADD CONSTRAINT "orgs_allowed_tiers_check" CHECK ("allowed_tiers" is null or (cardinality("allowed_tiers") > 0 and "allowed_tiers" <@ array['cheap', 'resale', 'byok']::text[]));--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_status_check" CHECK ("status" in ('active', 'disabled', 'revoked'));--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_allowed_tiers_check" CHECK ("allowed_tiers" is null or (cardinality("allowed_tiers") > 0 and "allowed_tiers" <@ array['cheap', 'resale', 'byok']::text[]));--> statement-breakpoint
ALTER TABLE "provider_channels" ADD CONSTRAINT "provider_channels_tier_check" CHECK ("tier" in ('cheap', 'resale'));--> statement-breakpoint
ALTER TABLE "provider_channels" ADD CONSTRAINT "provider_channels_limits_check" CHECK ("connect_timeout_ms" > 0 and "first_byte_timeout_ms" > 0 and "idle_timeout_ms" > 0 and "total_timeout_ms" > 0 and "retries" >= 0 and "max_concurrency" > 0);--> statement-breakpoint
ALTER TABLE "model_targets" ADD CONSTRAINT "model_targets_weight_check" CHECK ("priority" >= 0 and "weight" > 0);--> statement-breakpoint
ALTER TABLE "model_targets" ADD CONSTRAINT "model_targets_cost_check" CHECK (("cost_input_per_million" is null or "cost_input_per_million" >= 0) and ("cost_output_per_million" is null or "cost_output_per_million" >= 0) and ("cost_cached_input_per_million" is null or "cost_cached_input_per_million" >= 0) and ("cost_cache_write_per_million" is null or "cost_cache_write_per_million" >= 0) and ("cost_reasoning_per_million" is null or "cost_reasoning_per_million" >= 0));--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_limits_check" CHECK ("max_output_tokens" > 0 and ("context_window" is null or "context_window" > 0));