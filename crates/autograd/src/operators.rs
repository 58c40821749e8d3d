//! Operator overloading, so expressions read like the math: `(x.matmul(w) + b) * 0.5`.
//!
//! `Var ∘ Var` for `+ − × ÷`, unary `−`, and `Var ∘ scalar` in both orders.

use std::ops::{Add, Div, Mul, Neg, Sub};

use gantry_tensor::Element;

use crate::tape::Var;

impl<'t, E: Element> Neg for Var<'t, E> {
    type Output = Var<'t, E>;
    fn neg(self) -> Var<'t, E> {
        Var::neg(self)
    }
}

macro_rules! var_ops {
    ($trait:ident, $method:ident, $scalar:expr) => {
        impl<'t, E: Element> $trait<Var<'t, E>> for Var<'t, E> {
            type Output = Var<'t, E>;
            fn $method(self, rhs: Var<'t, E>) -> Var<'t, E> {
                Var::$method(self, rhs)
            }
        }
        impl<'t, E: Element> $trait<E> for Var<'t, E> {
            type Output = Var<'t, E>;
            fn $method(self, rhs: E) -> Var<'t, E> {
                let f: fn(Var<'t, E>, E) -> Var<'t, E> = $scalar;
                f(self, rhs)
            }
        }
    };
}
var_ops!(Add, add, |v, c| v.add_scalar(c));
var_ops!(Sub, sub, |v, c| v.add_scalar(-c));
var_ops!(Mul, mul, |v, c| v.mul_scalar(c));
var_ops!(Div, div, |v, c| v.mul_scalar(E::one() / c));

macro_rules! scalar_lhs_ops {
    ($($t:ty),*) => {$(
        impl<'t> Add<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn add(self, rhs: Var<'t, $t>) -> Var<'t, $t> {
                rhs.add_scalar(self)
            }
        }
        impl<'t> Sub<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn sub(self, rhs: Var<'t, $t>) -> Var<'t, $t> {
                rhs.neg().add_scalar(self)
            }
        }
        impl<'t> Mul<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn mul(self, rhs: Var<'t, $t>) -> Var<'t, $t> {
                rhs.mul_scalar(self)
            }
        }
        impl<'t> Div<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn div(self, rhs: Var<'t, $t>) -> Var<'t, $t> {
                rhs.pow(-1.0).mul_scalar(self)
            }
        }
    )*};
}
scalar_lhs_ops!(f32, f64);
