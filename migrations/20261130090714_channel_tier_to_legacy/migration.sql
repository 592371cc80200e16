ALTER TABLE "provider_channels" RENAME COLUMN "tier" TO "legacy_tier";--> statement-breakpoint
ALTER TABLE "provider_channels" ALTER COLUMN "legacy_tier" DROP NOT NULL;