//! Demo data (being written).
use crate::db::DbConn;
use crate::service::DomainCtx;

#[derive(Debug, clap::Args)]
pub struct SeedOptions {
    /// Children currently in care.
    #[arg(long, default_value_t = 630)]
    pub children: u32,
}

pub fn run(_conn: &mut DbConn, _ctx: &DomainCtx, _opts: &SeedOptions) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
