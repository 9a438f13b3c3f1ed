// The look of burned subtitles (SubtitleStyle in the contracts): face, size, colours, an outline or a box, and
// where they sit. A sample line on a small 16:9 frame shows the choice with the sizes compose uses; the browser
// draws it, so in the video's Nanum faces only where this computer has them (the hint says so).

import { field, h, retranslate, select } from './dom.js';

const FONTS = [
  ['gothic', 'subtitle.font.gothic'],
  ['barun_gothic', 'subtitle.font.barun_gothic'],
  ['square_round', 'subtitle.font.square_round'],
  ['myeongjo', 'subtitle.font.myeongjo'],
];
const POSITIONS = [['bottom', 'subtitle.position.bottom'], ['top', 'subtitle.position.top']];
// The contract's defaults: a request whose look is all of these says nothing about it.
const DEFAULT_LOOK = {
  font: 'gothic',
  size: 1,
  colour: '#FFFFFF',
  outline_colour: '#000000',
  outline: 1,
  box: false,
  box_colour: '#000000',
  box_opacity: 0.6,
  position: 'bottom',
};
// The faces by the names their fonts install under, then what the browser has.
const CSS_FACES = {
  gothic: "'NanumGothic', 'Nanum Gothic', sans-serif",
  barun_gothic: "'NanumBarunGothic', 'Nanum Barun Gothic', sans-serif",
  square_round: "'NanumSquareRound', 'Nanum Square Round', sans-serif",
  myeongjo: "'NanumMyeongjo', 'Nanum Myeongjo', serif",
};
// compose's sizes (reelflow.compose.subtitles), as shares of the frame's short side and of the font size.
const FONT_SHARE = 0.055;
const OUTLINE_SHARE_OF_FONT = 0.075;
const BOX_PADDING_SHARE_OF_FONT = 0.2;

function hexToRgba(hex, opacity) {
  const [red, green, blue] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16));
  return `rgba(${red}, ${green}, ${blue}, ${opacity})`;
}

/** An outline `width` wide (a CSS length) around the glyphs, as text shadows in eight directions. */
function outlineShadow(width, colour) {
  const steps = [[-1, -1], [0, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [0, 1], [1, 1]];
  const offset = (sign) => (sign === 0 ? '0' : `calc(${sign} * ${width})`);
  return steps.map(([x, y]) => `${offset(x)} ${offset(y)} 0 ${colour}`).join(', ');
}

/** The subtitle look's fields and its sample; value() is a SubtitleStyle, or null when it is the default. */
export function subtitleStylePicker(initial = {}) {
  const look = { ...DEFAULT_LOOK, ...(initial || {}) };
  const font = select(FONTS, look.font);
  font.name = 'subtitle_font';
  const size = h('input', { type: 'range', name: 'subtitle_size', min: '0.6', max: '1.8', step: '0.1', value: String(look.size) });
  const sizeShown = h('output', { class: 'range-value' });
  const colour = h('input', { type: 'color', name: 'subtitle_colour', value: look.colour.toLowerCase() });
  const outlineColour = h('input', { type: 'color', name: 'subtitle_outline_colour', value: look.outline_colour.toLowerCase() });
  const outline = h('input', { type: 'range', name: 'subtitle_outline', min: '0', max: '3', step: '0.5', value: String(look.outline) });
  const outlineShown = h('output', { class: 'range-value' });
  const box = h('input', { type: 'checkbox', name: 'subtitle_box' });
  box.checked = Boolean(look.box);
  const boxColour = h('input', { type: 'color', name: 'subtitle_box_colour', value: look.box_colour.toLowerCase() });
  const boxOpacity = h('input', { type: 'range', name: 'subtitle_box_opacity', min: '0', max: '1', step: '0.1', value: String(look.box_opacity) });
  const opacityShown = h('output', { class: 'range-value' });
  const position = select(POSITIONS, look.position);
  position.name = 'subtitle_position';

  const outlineFields = h('div', { class: 'subtitle-pair' }, field('subtitle.outline', h('span', { class: 'range-row' }, outline, outlineShown)), field('subtitle.outlineColour', outlineColour));
  const boxFields = h(
    'div',
    { class: 'subtitle-pair' },
    field('subtitle.boxColour', boxColour),
    field('subtitle.boxOpacity', h('span', { class: 'range-row' }, boxOpacity, opacityShown)),
  );
  const line = h('span', { class: 'subtitle-sample-line', i18n: 'subtitle.sampleText' });
  const sample = h('div', { class: 'subtitle-sample', attrs: { 'aria-hidden': 'true' } }, line);
  const element = h(
    'div',
    { class: 'subtitle-style wide' },
    h('span', { class: 'field-label', i18n: 'subtitle.look' }),
    h(
      'div',
      { class: 'subtitle-style-body' },
      h(
        'div',
        { class: 'subtitle-fields' },
        field('subtitle.font', font),
        field('subtitle.size', h('span', { class: 'range-row' }, size, sizeShown)),
        field('subtitle.colour', colour),
        field('subtitle.position', position, 'subtitle.position.hint'),
        field('subtitle.box', box),
        outlineFields,
        boxFields,
      ),
      h('figure', { class: 'subtitle-preview' }, sample, h('figcaption', { class: 'hint', i18n: 'subtitle.sampleHint' })),
    ),
  );

  function value() {
    const chosen = {
      font: font.value,
      size: Number(size.value),
      colour: colour.value.toUpperCase(),
      outline_colour: outlineColour.value.toUpperCase(),
      outline: Number(outline.value),
      box: box.checked,
      box_colour: boxColour.value.toUpperCase(),
      box_opacity: Number(boxOpacity.value),
      position: position.value,
    };
    const isDefault = Object.entries(DEFAULT_LOOK).every(([name, byDefault]) => chosen[name] === byDefault);
    return isDefault ? null : chosen;
  }

  function redraw() {
    const chosen = value() || DEFAULT_LOOK;
    sizeShown.textContent = `${chosen.size.toFixed(1)}×`;
    if (chosen.outline) {
      delete outlineShown.dataset.i18n;
      outlineShown.textContent = `${chosen.outline.toFixed(1)}×`;
    } else {
      retranslate(outlineShown, 'subtitle.outline.none');
    }
    opacityShown.textContent = `${Math.round(chosen.box_opacity * 100)}%`;
    outlineFields.hidden = chosen.box;
    boxFields.hidden = !chosen.box;
    // In units of the sample frame (cqh: 1% of its height) and of the font (em), as compose sizes them.
    line.style.fontFamily = CSS_FACES[chosen.font];
    line.style.fontSize = `${(FONT_SHARE * chosen.size * 100).toFixed(2)}cqh`;
    line.style.color = chosen.colour;
    if (chosen.box) {
      line.style.background = hexToRgba(chosen.box_colour, chosen.box_opacity);
      line.style.padding = `${BOX_PADDING_SHARE_OF_FONT}em`;
      line.style.textShadow = 'none';
    } else {
      line.style.background = 'none';
      line.style.padding = '0';
      const width = `max(1px, ${(OUTLINE_SHARE_OF_FONT * chosen.outline).toFixed(3)}em)`;
      line.style.textShadow = chosen.outline > 0 ? outlineShadow(width, chosen.outline_colour) : 'none';
    }
    sample.classList.toggle('at-top', chosen.position === 'top');
  }
  element.addEventListener('input', redraw);
  element.addEventListener('change', redraw);
  redraw();
  return { element, value };
}
