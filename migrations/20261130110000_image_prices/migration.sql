ALTER TABLE "model_byok_targets" ADD COLUMN "list_image_prices" jsonb;--> statement-breakpoint
ALTER TABLE "model_sell_prices" ADD COLUMN "image_prices" jsonb;--> statement-breakpoint
ALTER TABLE "model_targets" ADD COLUMN "cost_image_prices" jsonb;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "images" integer;