//! An order's life cycle: which event may follow which, checked before any money moves.

use chunlei_ledger::Fen;

/// How the goods travel; it decides when an order is confirmed automatically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shipping {
    Express,
    Surface,
}

impl Shipping {
    pub const ALL: [Shipping; 2] = [Shipping::Express, Shipping::Surface];

    /// The stable name, as stored and sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            Shipping::Express => "express",
            Shipping::Surface => "surface",
        }
    }

    pub fn parse(text: &str) -> Option<Shipping> {
        Shipping::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// The buyer paid; the money is in escrow.
    Paid,
    Shipped,
    /// The buyer confirmed receipt (or the order was confirmed automatically).
    Confirmed,
    /// Cancelled before shipping; the buyer got everything back.
    Cancelled,
    /// Everything paid was refunded.
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Confirmed,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
    ];

    /// The stable name, as stored and sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What an order event says happened, with amounts in fen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderEvent {
    Paid {
        merchant_id: String,
        amount: Fen,
        category: String,
        channel: String,
    },
    Shipped {
        shipping: Shipping,
    },
    Confirmed,
    /// Full or partial, before or after shipping.
    Refunded {
        amount: Fen,
    },
    Cancelled,
}

/// Why an event does not fit the order's life cycle. The event changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleError {
    /// Any event but `paid` for an order never paid.
    OrderNotPaid,
    /// A second `paid` for the same order.
    OrderAlreadyPaid,
    AmountMustNotBeZero,
    AlreadyShipped,
    /// `confirmed` before `shipped`.
    NotShipped,
    AlreadyConfirmed,
    /// A refund above what was paid and not yet refunded.
    RefundExceedsPaid,
    /// `cancelled` after shipping: the buyer asks for a refund instead.
    CancelAfterShipping,
    /// The order was cancelled; nothing may follow.
    OrderCancelled,
    /// Everything was refunded; nothing may follow.
    OrderFullyRefunded,
}

impl LifecycleError {
    /// The stable machine-readable code.
    pub const fn as_str(self) -> &'static str {
        match self {
            LifecycleError::OrderNotPaid => "order_not_paid",
            LifecycleError::OrderAlreadyPaid => "order_already_paid",
            LifecycleError::AmountMustNotBeZero => "amount_must_not_be_zero",
            LifecycleError::AlreadyShipped => "order_already_shipped",
            LifecycleError::NotShipped => "order_not_shipped",
            LifecycleError::AlreadyConfirmed => "order_already_confirmed",
            LifecycleError::RefundExceedsPaid => "refund_exceeds_paid",
            LifecycleError::CancelAfterShipping => "cancel_after_shipping",
            LifecycleError::OrderCancelled => "order_cancelled",
            LifecycleError::OrderFullyRefunded => "order_fully_refunded",
        }
    }
}

/// An order as the life cycle sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub merchant_id: String,
    pub category: String,
    pub channel: String,
    pub paid: Fen,
    pub refunded: Fen,
    pub status: OrderStatus,
    pub shipping: Option<Shipping>,
}

impl Order {
    /// What is still in escrow for the buyer or the merchant.
    pub fn outstanding(&self) -> Fen {
        self.paid.saturating_sub(self.refunded)
    }

    /// The order after `event`, or why the event does not fit. `order` is `None` for an order
    /// not seen yet.
    pub fn apply(order: Option<&Order>, event: &OrderEvent) -> Result<Order, LifecycleError> {
        use LifecycleError as E;
        let Some(order) = order else {
            return match event {
                OrderEvent::Paid { amount, .. } if amount.is_zero() => Err(E::AmountMustNotBeZero),
                OrderEvent::Paid {
                    merchant_id,
                    amount,
                    category,
                    channel,
                } => Ok(Order {
                    merchant_id: merchant_id.clone(),
                    category: category.clone(),
                    channel: channel.clone(),
                    paid: *amount,
                    refunded: Fen::ZERO,
                    status: OrderStatus::Paid,
                    shipping: None,
                }),
                OrderEvent::Shipped { .. }
                | OrderEvent::Confirmed
                | OrderEvent::Refunded { .. }
                | OrderEvent::Cancelled => Err(E::OrderNotPaid),
            };
        };
        match order.status {
            OrderStatus::Cancelled => return Err(E::OrderCancelled),
            OrderStatus::Refunded => return Err(E::OrderFullyRefunded),
            OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Confirmed => {}
        }
        let mut next = order.clone();
        match event {
            OrderEvent::Paid { .. } => return Err(E::OrderAlreadyPaid),
            OrderEvent::Shipped { shipping } => {
                if order.status != OrderStatus::Paid {
                    return Err(E::AlreadyShipped);
                }
                next.status = OrderStatus::Shipped;
                next.shipping = Some(*shipping);
            }
            OrderEvent::Confirmed => match order.status {
                OrderStatus::Paid => return Err(E::NotShipped),
                OrderStatus::Confirmed => return Err(E::AlreadyConfirmed),
                OrderStatus::Cancelled => return Err(E::OrderCancelled),
                OrderStatus::Refunded => return Err(E::OrderFullyRefunded),
                OrderStatus::Shipped => next.status = OrderStatus::Confirmed,
            },
            OrderEvent::Refunded { amount } => {
                if amount.is_zero() {
                    return Err(E::AmountMustNotBeZero);
                }
                if *amount > order.outstanding() {
                    return Err(E::RefundExceedsPaid);
                }
                next.refunded = order
                    .refunded
                    .checked_add(*amount)
                    .ok_or(E::RefundExceedsPaid)?;
                if next.outstanding().is_zero() {
                    next.status = OrderStatus::Refunded;
                }
            }
            OrderEvent::Cancelled => {
                if order.status != OrderStatus::Paid {
                    return Err(E::CancelAfterShipping);
                }
                next.status = OrderStatus::Cancelled;
                next.refunded = order.paid;
            }
        }
        Ok(next)
    }
}
