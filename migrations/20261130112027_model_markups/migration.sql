CREATE TABLE "model_markups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"model_id" uuid NOT NULL,
	"tier" text NOT NULL,
	"org_id" uuid,
	"markup_bps" integer,
	"effective_from" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_markups_scope_effective_key" UNIQUE NULLS NOT DISTINCT("model_id","tier","org_id","effective_from"),
	CONSTRAINT "model_markups_tier_check" CHECK ("tier" in ('cheap', 'resale')),
	CONSTRAINT "model_markups_bps_check" CHECK ("markup_bps" is null or ("markup_bps" >= 0 and "markup_bps" <= 1000000))
);
--> statement-breakpoint
CREATE INDEX "model_markups_org_idx" ON "model_markups" ("org_id");--> statement-breakpoint
ALTER TABLE "model_markups" ADD CONSTRAINT "model_markups_model_id_models_id_fkey" FOREIGN KEY ("model_id") REFERENCES "models"("id");--> statement-breakpoint
ALTER TABLE "model_markups" ADD CONSTRAINT "model_markups_org_id_orgs_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id");