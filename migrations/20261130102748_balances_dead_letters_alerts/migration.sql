CREATE TABLE "org_alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"org_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"balance" bigint NOT NULL,
	"threshold" bigint NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "org_balances" (
	"org_id" uuid PRIMARY KEY,
	"balance" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_dead_letters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"stream_id" text NOT NULL UNIQUE,
	"request_id" text,
	"org_id" text,
	"cost" bigint,
	"store_debited" text NOT NULL,
	"payload" text NOT NULL,
	"error" text NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp(3) with time zone
);
--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "low_balance_threshold" bigint;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "store_debited" boolean DEFAULT true NOT NULL;--> statement-breakpoint
CREATE INDEX "usage_records_key_started_idx" ON "usage_records" ("api_key_id","started_at");--> statement-breakpoint
CREATE INDEX "usage_records_org_started_idx" ON "usage_records" ("org_id","started_at");--> statement-breakpoint
CREATE INDEX "usage_records_store_pending_idx" ON "usage_records" ("org_id") WHERE "store_debited" = false;--> statement-breakpoint
CREATE INDEX "org_alerts_org_idx" ON "org_alerts" ("org_id","created_at");--> statement-breakpoint
CREATE INDEX "usage_dead_letters_org_idx" ON "usage_dead_letters" ("org_id");--> statement-breakpoint
ALTER TABLE "org_alerts" ADD CONSTRAINT "org_alerts_org_id_orgs_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id");--> statement-breakpoint
ALTER TABLE "org_balances" ADD CONSTRAINT "org_balances_org_id_orgs_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id");--> statement-breakpoint
-- Balances from the ledger as it is now; the trigger below keeps them from here on.
INSERT INTO "org_balances" ("org_id", "balance") SELECT "org_id", sum("amount") FROM "ledger_entries" GROUP BY "org_id";--> statement-breakpoint
-- Every statement inserting ledger entries adds them to their orgs' balance rows in the same
-- transaction, and writes one low_balance alert for each org whose balance crossed its threshold
-- downwards in that statement.
CREATE FUNCTION "tollgate_ledger_to_balances"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH delta AS (
    SELECT "org_id", sum("amount") AS "amount" FROM new_entries GROUP BY "org_id"
  ), moved AS (
    INSERT INTO "org_balances" AS b ("org_id", "balance")
    SELECT "org_id", "amount" FROM delta
    ON CONFLICT ("org_id") DO UPDATE SET "balance" = b."balance" + excluded."balance", "updated_at" = now()
    RETURNING b."org_id", b."balance"
  )
  INSERT INTO "org_alerts" ("org_id", "kind", "balance", "threshold")
  SELECT moved."org_id", 'low_balance', moved."balance", o."low_balance_threshold"
  FROM moved
  JOIN delta ON delta."org_id" = moved."org_id"
  JOIN "orgs" o ON o."id" = moved."org_id"
  WHERE o."low_balance_threshold" IS NOT NULL
    AND moved."balance" < o."low_balance_threshold"
    AND moved."balance" - delta."amount" >= o."low_balance_threshold";
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "ledger_entries_to_balances" AFTER INSERT ON "ledger_entries"
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION "tollgate_ledger_to_balances"();
