//! Fax gateways: Telnyx, Sinch Fax API v3, and a directory of PDFs as the local stand-in.
