ALTER TABLE "email_outbox" ADD COLUMN "next_attempt_at" timestamp(3) with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "email_outbox" ADD COLUMN "failed_at" timestamp(3) with time zone;--> statement-breakpoint
CREATE INDEX "email_outbox_next_idx" ON "email_outbox" ("next_attempt_at");