import { css } from 'lit';

export const panel = css`
  :host {
    display: block;
    font: 16px/1.4 system-ui, sans-serif;
    color: #1f2933;
  }
  .error {
    margin: 0.5rem 0;
    padding: 0.5rem 0.75rem;
    border-radius: 6px;
    background: #fde8e8;
    color: #9b1c1c;
  }
  button {
    font: inherit;
    border: 1px solid #9aa5b1;
    border-radius: 6px;
    background: white;
    padding: 0.25rem 0.75rem;
    cursor: pointer;
  }
`;
