ALTER TABLE "models" ADD COLUMN "capabilities" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "aliases" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
CREATE INDEX "models_aliases_idx" ON "models" USING gin ("aliases");--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_alias_not_name_check" CHECK (not ("name" = any("aliases")));--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_capabilities_check" CHECK ("capabilities" <@ array['vision', 'tools', 'json_schema', 'reasoning', 'embeddings', 'images']::text[]);