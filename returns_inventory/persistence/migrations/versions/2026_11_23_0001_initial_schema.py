"""catalogue stock ledger imports tokens outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23 01:08:14.424174
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('idempotency_keys',
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('content_type', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('actor', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('applied_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches')),
    sa.UniqueConstraint('kind', 'content_sha256', name=op.f('uq_import_batches_kind_content_sha256'))
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('size', sa.String(length=32), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('category', sa.String(length=64), server_default='uncategorised', nullable=False),
    sa.Column('description', sa.String(length=255), server_default='', nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
    sa.Column('supplier', sa.String(length=64), nullable=True),
    sa.Column('lead_time_days', sa.Integer(), server_default='14', nullable=False),
    sa.Column('case_pack', sa.Integer(), server_default='1', nullable=False),
    sa.Column('min_order_qty', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('case_pack >= 1', name=op.f('ck_items_case_pack_positive')),
    sa.CheckConstraint('lead_time_days >= 0', name=op.f('ck_items_lead_time_not_negative')),
    sa.CheckConstraint('min_order_qty >= 0', name=op.f('ck_items_moq_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('gtin', name=op.f('uq_items_gtin')),
    sa.UniqueConstraint('sku', 'size', name=op.f('uq_items_sku_size'))
    )
    op.create_table('locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('allow_negative', sa.Boolean(), server_default='0', nullable=False),
    sa.CheckConstraint("type in ('warehouse', 'store')", name=op.f('ck_locations_type_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('code', name=op.f('uq_locations_code'))
    )
    op.create_table('outbox_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('txid', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_events_event_type'), ['event_type'], unique=False)

    op.create_table('purchase_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('po_ref', sa.String(length=64), nullable=False),
    sa.Column('line_ref', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('received_quantity', sa.Integer(), server_default='0', nullable=False),
    sa.Column('expected_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_purchase_order_lines_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_purchase_order_lines_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_lines')),
    sa.UniqueConstraint('po_ref', 'line_ref', name=op.f('uq_purchase_order_lines_po_ref_line_ref'))
    )
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_item_id_purchase_order_lines_status'), ['item_id', 'status'], unique=False)

    op.create_table('sales_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_ref', sa.String(length=64), nullable=False),
    sa.Column('line_ref', sa.String(length=64), nullable=False),
    sa.Column('sold_on', sa.Date(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("channel in ('online', 'store')", name=op.f('ck_sales_lines_channel_known')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_sales_lines_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_sales_lines_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_sales_lines_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_lines')),
    sa.UniqueConstraint('order_ref', 'line_ref', name=op.f('uq_sales_lines_order_ref_line_ref'))
    )
    with op.batch_alter_table('sales_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_lines_item_id_sales_lines_sold_on'), ['item_id', 'sold_on'], unique=False)

    op.create_table('stock_balances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('condition', sa.String(length=16), nullable=False),
    sa.Column('on_hand', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reserved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("condition in ('sellable', 'second_quality', 'repair', 'quarantine')", name=op.f('ck_stock_balances_condition_known')),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_stock_balances_reserved_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_stock_balances_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_stock_balances_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_balances')),
    sa.UniqueConstraint('item_id', 'location_id', 'condition', name=op.f('uq_stock_balances_item_id_location_id_condition'))
    )
    op.create_table('ledger_movements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('balance_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('condition', sa.String(length=16), nullable=False),
    sa.Column('movement_type', sa.String(length=24), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('reserved_delta', sa.Integer(), server_default='0', nullable=False),
    sa.Column('on_hand_after', sa.Integer(), nullable=False),
    sa.Column('reserved_after', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('reference', sa.String(length=128), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['balance_id'], ['stock_balances.id'], name=op.f('fk_ledger_movements_balance_id_stock_balances')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_ledger_movements_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_ledger_movements_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_movements')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_movements_idempotency_key'))
    )
    with op.batch_alter_table('ledger_movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_movements_balance_id'), ['balance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_movements_item_id_ledger_movements_created_at'), ['item_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_movements_reference'), ['reference'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ledger_movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_movements_reference'))
        batch_op.drop_index(batch_op.f('ix_ledger_movements_item_id_ledger_movements_created_at'))
        batch_op.drop_index(batch_op.f('ix_ledger_movements_balance_id'))

    op.drop_table('ledger_movements')
    op.drop_table('stock_balances')
    with op.batch_alter_table('sales_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_lines_item_id_sales_lines_sold_on'))

    op.drop_table('sales_lines')
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_item_id_purchase_order_lines_status'))

    op.drop_table('purchase_order_lines')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_events_event_type'))

    op.drop_table('outbox_events')
    op.drop_table('locations')
    op.drop_table('items')
    op.drop_table('import_batches')
    op.drop_table('idempotency_keys')
    op.drop_table('api_tokens')
