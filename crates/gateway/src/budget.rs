//! A read budget on a socket: before auth, a peer cannot make the gateway read (and so buffer)
//! more than a fixed number of bytes, whatever frame lengths it announces.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Shared budget: bytes the peer may still send; `usize::MAX` = unlimited.
#[derive(Debug)]
pub(crate) struct Budget {
    remaining: AtomicUsize,
    exceeded: AtomicBool,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            remaining: AtomicUsize::new(limit),
            exceeded: AtomicBool::new(false),
        })
    }

    /// Lift the limit (after a successful `connect`).
    pub(crate) fn lift(&self) {
        self.remaining.store(usize::MAX, Ordering::Release);
    }

    /// Whether a read failed because the budget ran out.
    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Acquire)
    }
}

/// A stream that fails reads once the budget is spent.
#[derive(Debug)]
pub(crate) struct BudgetStream<S> {
    inner: S,
    budget: Arc<Budget>,
}

impl<S> BudgetStream<S> {
    pub(crate) fn new(inner: S, budget: Arc<Budget>) -> Self {
        BudgetStream { inner, budget }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for BudgetStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            let n = buf.filled().len() - before;
            let remaining = self.budget.remaining.load(Ordering::Acquire);
            if remaining != usize::MAX {
                if n > remaining {
                    self.budget.exceeded.store(true, Ordering::Release);
                    self.budget.remaining.store(0, Ordering::Release);
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "preauth payload too large",
                    )));
                }
                self.budget
                    .remaining
                    .store(remaining - n, Ordering::Release);
            }
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for BudgetStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
