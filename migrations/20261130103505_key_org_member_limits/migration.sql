ALTER TABLE "orgs" ADD COLUMN "models" text[];--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "ip_allowlist" text[];--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "rpm" integer;--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "tpm" integer;--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "concurrency" integer;--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "credit_lifetime" bigint;--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "credit_day" bigint;--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "credit_week" bigint;--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "credit_month" bigint;--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "overdraft" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "models" text[];--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "ip_allowlist" text[];--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "rpm" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "tpm" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "concurrency" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "credit_lifetime" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "credit_day" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "credit_week" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "credit_month" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "metadata" jsonb;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "member_id" uuid;--> statement-breakpoint
ALTER TABLE "org_members" ADD COLUMN "monthly_allowance" bigint;--> statement-breakpoint
ALTER TABLE "usage_dead_letters" ADD COLUMN "resolved_by" uuid;--> statement-breakpoint
ALTER TABLE "usage_dead_letters" ADD COLUMN "resolution_note" text;--> statement-breakpoint
CREATE INDEX "api_keys_member_id_idx" ON "api_keys" ("member_id");--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_member_id_org_members_id_fkey" FOREIGN KEY ("member_id") REFERENCES "org_members"("id") ON DELETE SET NULL;--> statement-breakpoint
ALTER TABLE "orgs" ADD CONSTRAINT "orgs_limits_check" CHECK (("models" is null or cardinality("models") > 0) and ("ip_allowlist" is null or cardinality("ip_allowlist") > 0) and ("rpm" is null or "rpm" > 0) and ("tpm" is null or "tpm" > 0) and ("concurrency" is null or "concurrency" > 0) and ("credit_lifetime" is null or "credit_lifetime" >= 0) and ("credit_day" is null or "credit_day" >= 0) and ("credit_week" is null or "credit_week" >= 0) and ("credit_month" is null or "credit_month" >= 0));--> statement-breakpoint
ALTER TABLE "orgs" ADD CONSTRAINT "orgs_overdraft_check" CHECK ("overdraft" >= 0);--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_limits_check" CHECK (("models" is null or cardinality("models") > 0) and ("ip_allowlist" is null or cardinality("ip_allowlist") > 0) and ("rpm" is null or "rpm" > 0) and ("tpm" is null or "tpm" > 0) and ("concurrency" is null or "concurrency" > 0) and ("credit_lifetime" is null or "credit_lifetime" >= 0) and ("credit_day" is null or "credit_day" >= 0) and ("credit_week" is null or "credit_week" >= 0) and ("credit_month" is null or "credit_month" >= 0));--> statement-breakpoint
ALTER TABLE "org_members" ADD CONSTRAINT "org_members_allowance_check" CHECK ("monthly_allowance" is null or "monthly_allowance" >= 0);