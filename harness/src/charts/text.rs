//! Text for the PNG charts, rasterized properly.
//!
//! Plotters' own `ab_glyph` text path places each glyph's pixels at the pen
//! position without the glyph's left side bearing, and puts the baseline
//! half a font size below the top of the text's box, so letters are
//! unevenly spaced ("ma x") and capitals stick out above the box (a rotated
//! axis label loses its edge). [`CrispText`] wraps a bitmap backend and
//! draws text itself with the same embedded DejaVu Sans: glyphs at their
//! true, sub-pixel positions, kerned, from the top of their capitals to the
//! bottom of their descenders inside the box plotters measured for layout
//! (so everything plotters lays out stays where it put it). Every other drawing call goes straight to the wrapped
//! backend. SVG needs none of this: the viewer sets the text.

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind, FontStyle,
    FontTransform,
};
use std::sync::OnceLock;

/// A drawing backend whose text is drawn by [`draw_text`](CrispText::draw_text)
/// below; everything else is the wrapped backend's.
pub struct CrispText<B>(pub B);

/// DejaVu Sans, regular and bold: the fonts [`super::style::register_fonts`]
/// gives plotters for measuring text.
fn fonts() -> &'static (FontRef<'static>, FontRef<'static>) {
    static FONTS: OnceLock<(FontRef<'static>, FontRef<'static>)> = OnceLock::new();
    FONTS.get_or_init(|| {
        (
            FontRef::try_from_slice(dejavu::sans::regular()).expect("DejaVu Sans is a valid font"),
            FontRef::try_from_slice(dejavu::sans::bold()).expect("DejaVu Sans Bold is a valid font"),
        )
    })
}

impl<B: DrawingBackend> DrawingBackend for CrispText<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }
    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    /// Draws `text` anchored at `pos` as plotters would (the same box, the
    /// same anchor and rotation), with correctly placed glyphs.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) =
            style.layout_box(text).map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let (regular, bold) = fonts();
        let font = if matches!(style.style(), FontStyle::Bold) { bold } else { regular };
        let scale = PxScale::from(style.size() as f32);
        let scaled = font.as_scaled(scale);
        // Descenders end at the bottom of the measured box; capitals then
        // reach its top (the box is 0.81 of the font's line height, caps
        // and descenders 0.80 of it in DejaVu Sans).
        let baseline = height as f32 + scaled.descent();
        let trans: FontTransform = style.transform();
        let (w, h) = self.get_size();
        let mut caret = 0f32;
        let mut prev: Option<GlyphId> = None;
        let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                caret += scaled.kern(p, id);
            }
            if let Some(outline) = font.outline_glyph(id.with_scale_and_position(scale, point(caret, baseline))) {
                let b = outline.px_bounds();
                outline.draw(|x, y, coverage| {
                    pixels.push((b.min.x as i32 + x as i32, b.min.y as i32 + y as i32, coverage))
                });
            }
            caret += scaled.h_advance(id);
            prev = Some(id);
        }
        for (x, y, coverage) in pixels {
            if coverage <= 0.0 {
                continue;
            }
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                let alpha = color.alpha * f64::from(coverage.min(1.0));
                self.0.draw_pixel((x, y), BackendColor { alpha, rgb: color.rgb })?;
            }
        }
        Ok(())
    }
}
